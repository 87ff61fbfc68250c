ALTER TYPE "public"."run_event_type" ADD VALUE 'RUN_RESUMED';--> statement-breakpoint
ALTER TYPE "public"."run_event_type" ADD VALUE 'RUN_RETRIED';--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "deadline_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "retries" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "lease_until" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "cancel_requested" text;--> statement-breakpoint
ALTER TABLE "steps" ADD COLUMN "handle" text;--> statement-breakpoint
ALTER TABLE "steps" ADD COLUMN "retry_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "steps" ADD COLUMN "wake_at" timestamp (3) with time zone;