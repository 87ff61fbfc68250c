// Redaction of used secrets: the value and the forms an API echoes it in (URL-encoded, form-encoded,
// JSON-escaped, base64/base64url whole or inside a longer encoded text) become [secret:NAME], in strings
// and object keys at any depth, and nothing else changes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusError } from '../../src/engine/nodes/http-response.js';
import { createRedactor } from '../../src/engine/redaction.js';

const token = 'tok_9f8e7d6c5b4a-3210';

function redactorWith(entries: Record<string, string>) {
  const redactor = createRedactor();
  for (const [name, value] of Object.entries(entries)) redactor.add(name, value);
  return redactor;
}

describe('redaction', () => {
  it('is inactive, and leaves values untouched, until it knows a value', () => {
    const redactor = createRedactor();
    const value = { a: [token] };
    expect(redactor.active).toBe(false);
    expect(redactor.redact(value)).toBe(value);
    redactor.add('EMPTY', '');
    expect(redactor.active).toBe(false);
  });

  it('replaces the value in strings and keys at any depth, leaving the rest as it was', () => {
    const redactor = redactorWith({ API_TOKEN: token });
    const value = { headers: { authorization: `Bearer ${token}` }, list: [1, null, true, [`${token}${token}`]], [token]: 'key', other: 'kept' };
    expect(redactor.redact(value)).toEqual({
      headers: { authorization: 'Bearer [secret:API_TOKEN]' },
      list: [1, null, true, ['[secret:API_TOKEN][secret:API_TOKEN]']],
      '[secret:API_TOKEN]': 'key',
      other: 'kept',
    });
  });

  it('replaces the URL-encoded, form-encoded, JSON-escaped and base64 forms', () => {
    const value = 'p@ss w/rd+"quoted"?&=é';
    const redactor = redactorWith({ PASSWORD: value });
    const bytes = Buffer.from(value);
    const forms = [
      encodeURIComponent(value),
      encodeURIComponent(value).replace(/%20/g, '+'),
      JSON.stringify(value).slice(1, -1),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ];
    for (const form of forms) {
      expect(form).not.toBe(value);
      expect(redactor.text(`before ${form} after`)).toBe('before [secret:PASSWORD] after');
    }
  });

  it('finds the value inside a longer base64 text, as in a Basic credential, at any alignment', () => {
    const redactor = redactorWith({ PASSWORD: token });
    for (const user of ['a', 'ab', 'abc', 'user-name']) {
      const basic = Buffer.from(`${user}:${token}`).toString('base64');
      const redacted = redactor.text(`Basic ${basic}`);
      // What is left around the marker encodes the user name and at most two bytes of the value at either end.
      const [before, after] = redacted.slice('Basic '.length).split('[secret:PASSWORD]');
      expect(before!.length).toBeLessThanOrEqual(Math.ceil(((user.length + 1 + 2) * 4) / 3));
      expect(after!.length).toBeLessThanOrEqual(4);
    }
  });

  it('redacts every value a secret had, and each secret under its own name (the longest form first)', () => {
    const redactor = redactorWith({ SHORT: 'abcdefgh', LONG: 'abcdefgh-ijkl' });
    redactor.add('SHORT', 'zyxwvuts');
    expect(redactor.text('abcdefgh-ijkl abcdefgh zyxwvuts')).toBe('[secret:LONG] [secret:SHORT] [secret:SHORT]');
  });

  it('copies a deep value without recursion', () => {
    const redactor = redactorWith({ T: token });
    let deep: unknown = token;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let out = redactor.redact(deep);
    for (let i = 0; i < 100_000; i++) out = (out as unknown[])[0];
    expect(out).toBe('[secret:T]');
  });

  it('never leaves a value, whatever surrounds it (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), fc.string(), fc.string(), (value, before, after) => {
        const redactor = redactorWith({ S: value });
        const out = redactor.text(`${before}${value}${after}`);
        expect(out).toContain('[secret:S]');
        // Between the markers no occurrence is left.
        for (const piece of out.split('[secret:S]')) expect(piece.includes(value)).toBe(false);
      }),
    );
  });

  it("is applied to an http error's body before it is cut, so no cut leaves part of a value", () => {
    const redactor = redactorWith({ T: token });
    // The value straddles the 200th character, where the error's snippet is cut.
    const body = `${'x'.repeat(190)}${token} and more`;
    const message = redactor.text(statusError('GET http://a', { status: 400, headers: {}, body }, 0, redactor.text).message);
    expect(message).toContain('[secret:T]');
    expect(message).not.toContain(token.slice(0, 5));
  });
});
