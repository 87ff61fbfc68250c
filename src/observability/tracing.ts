// Tracing with OpenTelemetry, loaded only when a traces endpoint is configured: a span per run and a
// child span per node attempt, exported over OTLP/HTTP in batches. The other OTEL_* variables (headers,
// sampler, batch sizes) are read by the SDK itself.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AttemptSpan, RunSpan, RunTracer } from '../engine/index.js';

export interface Tracing {
  tracer: RunTracer;
  /** Sends what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/** W3C traceparent of `span`: version 00, trace id, span id, flags. */
function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** Spans exported to `url` (the full OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces). */
export function createTracing(url: string): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'braid' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  const tracer = provider.getTracer('braid');

  function startRun(runId: string): RunSpan {
    const run = tracer.startSpan('run', { kind: SpanKind.INTERNAL, attributes: { 'braid.run.id': runId } }, ROOT_CONTEXT);
    const parent = trace.setSpan(ROOT_CONTEXT, run);
    return {
      startAttempt(nodeId, nodeType, attempt): AttemptSpan {
        const span = tracer.startSpan(
          `node ${nodeId}`,
          { attributes: { 'braid.run.id': runId, 'braid.node.id': nodeId, 'braid.node.type': nodeType, 'braid.node.attempt': attempt } },
          parent,
        );
        return {
          traceparent: traceparentOf(span),
          end(status, error) {
            span.setAttribute('braid.node.status', status);
            if (status === 'FAILED') span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
            span.end();
          },
        };
      },
      end(status, error) {
        run.setAttribute('braid.run.status', status);
        if (status === 'FAILED') run.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
        run.end();
      },
    };
  }

  return { tracer: { startRun }, shutdown: () => provider.shutdown() };
}
