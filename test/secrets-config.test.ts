// SECRETS_KEY in the configuration: 32 bytes of base64 or a ConfigError that names it (without echoing it).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('SECRETS_KEY', () => {
  it('is unset by default and read as 32 bytes from base64 (standard or url-safe, padding optional)', () => {
    expect(loadConfig({}).secretsKey).toBeUndefined();
    expect(loadConfig({ SECRETS_KEY: '' }).secretsKey).toBeUndefined();
    const key = randomBytes(32);
    expect(loadConfig({ SECRETS_KEY: key.toString('base64') }).secretsKey).toEqual(key);
    expect(loadConfig({ SECRETS_KEY: ` ${key.toString('base64')}\n` }).secretsKey).toEqual(key);
    expect(loadConfig({ SECRETS_KEY: key.toString('base64url') }).secretsKey).toEqual(key);
  });

  it('refuses anything but 32 bytes of base64 with a ConfigError naming SECRETS_KEY, never showing the value', () => {
    for (const value of [randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), 'not base64 at all!', `${'A'.repeat(43)}=#`]) {
      let error: unknown;
      try {
        loadConfig({ SECRETS_KEY: value });
      } catch (caught) {
        error = caught;
      }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/SECRETS_KEY=…: expected 32 bytes in base64/);
      expect((error as Error).message).not.toContain(value);
    }
  });
});
