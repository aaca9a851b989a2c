-- Staging tables live in the session's temporary schema: no WAL, invisible to other
-- sessions, gone at commit. `round` orders the changes of one key (k-th row = round k).
CREATE TEMP TABLE customer_stage (
  round integer NOT NULL, customer_id bigint NOT NULL, name text NOT NULL, email text NOT NULL, phone text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE product_stage (
  round integer NOT NULL, product_id bigint NOT NULL, name text NOT NULL, category text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE sales_stage (
  sale_id bigint NOT NULL, customer_id bigint NOT NULL, product_id bigint NOT NULL,
  quantity integer NOT NULL, amount numeric(12,2) NOT NULL, sale_time timestamp NOT NULL
) ON COMMIT DROP;
