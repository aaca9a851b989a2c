-- One load's input, in session-private temporary tables dropped at commit.
CREATE TEMP TABLE customer_stage (customer_id bigint NOT NULL, name text NOT NULL, email text NOT NULL, phone text NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE product_stage (product_id bigint NOT NULL, name text NOT NULL, category text NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE order_stage (order_id bigint NOT NULL, customer_id bigint NOT NULL, order_date date NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE order_line_stage (order_id bigint NOT NULL, product_id bigint NOT NULL, quantity integer NOT NULL, unit_price numeric(12,2) NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE order_status_stage (order_id bigint NOT NULL, status text NOT NULL, status_time timestamp NOT NULL) ON COMMIT DROP;
