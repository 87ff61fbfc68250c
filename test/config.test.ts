// The environment read in one place: defaults, flags, and a bad value naming its variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      databaseUrl: undefined,
      dataDir: './.data',
      adminToken: undefined,
      httpAllowPrivate: false,
      httpHostConcurrency: 64,
      maxBodyBytes: 1024 * 1024,
      maxDefinitionNodes: 5000,
      maxDefinitionEdges: 20000,
      maxQueryDepth: 12,
      maxQueryCost: 5000,
      subscriberMaxQueue: 10000,
      runLeaseMs: 10000,
      shutdownGraceMs: 10000,
      runCapacity: 10000,
      host: '127.0.0.1',
      corsOrigins: [],
      rateLimitPerSecond: 1000,
      maxSubscriptionsPerKey: 5000,
      maxSocketsPerKey: 1000,
      maxQueryAliases: 30,
      maxQueryTokens: 10000,
      maxQueryDirectives: 50,
      expressionTimeoutMs: 5000,
      expressionMemoryMb: 64,
      expressionResultBytes: 1024 * 1024,
      expressionWorkers: undefined,
      logLevel: 'info',
      metricsToken: undefined,
      otlpTracesEndpoint: undefined,
      runRetentionHours: 720,
      shedEventLoopDelayMs: 200,
      shedHeapFraction: 0.85,
    });
  });

  it('reads LOG_LEVEL in any case, METRICS_TOKEN without echoing it, and where spans go', () => {
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL="loud": expected one of trace, debug/);
    expect(loadConfig({ METRICS_TOKEN: 'm-token' }).metricsToken).toBe('m-token');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }).otlpTracesEndpoint).toBe('http://127.0.0.1:4318/v1/traces');
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' }).otlpTracesEndpoint,
    ).toBe('http://b:4318/traces');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('listens on loopback in dev mode and everywhere with ADMIN_TOKEN, unless HOST says', () => {
    expect(loadConfig({ ADMIN_TOKEN: 'secret' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
  });

  it('reads CORS_ORIGINS as a list of origins and names a bad one', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/CORS_ORIGINS.*app\.example\.com\/path/);
  });

  it('takes 0 as no limit for the per-key limits', () => {
    expect(loadConfig({ RATE_LIMIT_PER_SECOND: '0', MAX_SOCKETS_PER_KEY: '0' })).toMatchObject({ rateLimitPerSecond: 0, maxSocketsPerKey: 0 });
    expect(() => loadConfig({ RATE_LIMIT_PER_SECOND: '-1' })).toThrow(/RATE_LIMIT_PER_SECOND/);
  });

  it('reads the load-shedding thresholds, 0 turning each off', () => {
    expect(loadConfig({ SHED_EVENT_LOOP_DELAY_MS: '0', SHED_HEAP_FRACTION: '0.5' })).toMatchObject({ shedEventLoopDelayMs: 0, shedHeapFraction: 0.5 });
    expect(() => loadConfig({ SHED_HEAP_FRACTION: '85' })).toThrow(/SHED_HEAP_FRACTION="85": expected a number from 0 to 1/);
    expect(() => loadConfig({ SHED_EVENT_LOOP_DELAY_MS: '1.5' })).toThrow(/SHED_EVENT_LOOP_DELAY_MS/);
  });

  it('reads HTTP_ALLOW_PRIVATE as true/1/false/0/empty', () => {
    for (const [value, expected] of [['true', true], ['1', true], ['TRUE', true], ['false', false], ['0', false], ['', false]] as const) {
      expect(loadConfig({ HTTP_ALLOW_PRIVATE: value }).httpAllowPrivate).toBe(expected);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', ADMIN_TOKEN: '' })).toMatchObject({ port: 4000, databaseUrl: undefined, adminToken: undefined });
  });

  it('throws naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT="70000"/);
    expect(() => loadConfig({ HTTP_ALLOW_PRIVATE: 'yes' })).toThrow(/HTTP_ALLOW_PRIVATE="yes"/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MAX_BODY_BYTES: '0', MAX_QUERY_DEPTH: 'deep' })).toThrow(/MAX_BODY_BYTES.*MAX_QUERY_DEPTH/);
  });
});
