ALTER TABLE "organizations" ADD COLUMN "max_concurrent_runs" integer;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "max_running_nodes" integer;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "workflow_versions" ADD COLUMN "max_concurrent_runs" integer GENERATED ALWAYS AS (case when jsonb_typeof(definition #> '{settings,maxConcurrentRuns}') = 'number' then (definition #>> '{settings,maxConcurrentRuns}')::numeric::integer end) STORED;--> statement-breakpoint
CREATE INDEX "runs_queue_idx" ON "runs" USING btree ("organization_id","priority" DESC NULLS LAST,"created_at","id") WHERE status in ('QUEUED', 'RUNNING');