-- After the bulk load: the fact's foreign keys (checked once over the whole table) and
-- the indexes that joins from the dimensions use.
ALTER TABLE star.sales_fact
  ADD CONSTRAINT sales_fact_customer_key_fkey FOREIGN KEY (customer_key) REFERENCES star.customer_dim (customer_key),
  ADD CONSTRAINT sales_fact_product_key_fkey FOREIGN KEY (product_key) REFERENCES star.product_dim (product_key);
CREATE INDEX sales_fact_customer_key_idx ON star.sales_fact (customer_key);
CREATE INDEX sales_fact_product_key_idx ON star.sales_fact (product_key);
CREATE INDEX sales_fact_sale_time_idx ON star.sales_fact (sale_time);
ANALYZE star.customer_dim;
ANALYZE star.product_dim;
ANALYZE star.sales_fact;
