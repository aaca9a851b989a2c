-- Week 6 source tables, recreated on every run so that a rerun starts from the same state.
DROP SCHEMA IF EXISTS s3_upload CASCADE;
CREATE SCHEMA s3_upload;

CREATE TABLE s3_upload.products (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    price      numeric(13, 2) NOT NULL CHECK (price >= 0),
    created_at timestamp NOT NULL
);

CREATE TABLE s3_upload.orders (
    id            bigint PRIMARY KEY,
    customer_name text NOT NULL,
    created_at    timestamp NOT NULL
);

CREATE TABLE s3_upload.order_entry (
    id         bigint PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES s3_upload.orders (id),
    product_id bigint NOT NULL REFERENCES s3_upload.products (id),
    quantity   integer NOT NULL CHECK (quantity > 0)
);
