// The one rule for user-given names (organizations, keys, workflows): trimmed, 1 to 200 characters.
import { fieldIssue, ValidationError } from './validation.js';

const maxNameLength = 200;

/** The trimmed name, or throws ValidationError naming `field`. */
export function checkName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  const problem = trimmed.includes('\u0000')
    ? `${field} contains a NUL character`
    : trimmed.length === 0
      ? `${field} must not be empty`
      : trimmed.length > maxNameLength
        ? `${field} is longer than ${maxNameLength} characters`
        : null;
  if (problem) throw new ValidationError([fieldIssue(field, problem)], 'input');
  return trimmed;
}
