// RUN_RETENTION_HOURS as src/config.ts reads it: 720 by default, decimals allowed, 0 keeps everything,
// anything else refused with a message naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('RUN_RETENTION_HOURS', () => {
  it('is 720 hours by default and takes whole and decimal hours, 0 included', () => {
    expect(loadConfig({}).runRetentionHours).toBe(720);
    expect(loadConfig({ RUN_RETENTION_HOURS: '' }).runRetentionHours).toBe(720);
    expect(loadConfig({ RUN_RETENTION_HOURS: '0' }).runRetentionHours).toBe(0);
    expect(loadConfig({ RUN_RETENTION_HOURS: '0.5' }).runRetentionHours).toBe(0.5);
    expect(loadConfig({ RUN_RETENTION_HOURS: ' 48 ' }).runRetentionHours).toBe(48);
  });

  it('refuses a negative number or a word, naming the variable', () => {
    for (const value of ['-1', 'a week', 'Infinity']) {
      expect(() => loadConfig({ RUN_RETENTION_HOURS: value }), value).toThrow(ConfigError);
      expect(() => loadConfig({ RUN_RETENTION_HOURS: value }), value).toThrow(/RUN_RETENTION_HOURS/);
    }
  });
});
