CREATE TABLE "secrets_key_check" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"ciphertext" text NOT NULL,
	"iv" text NOT NULL,
	"auth_tag" text NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secrets_key_check_one_row" CHECK ("secrets_key_check"."id" = 1)
);
