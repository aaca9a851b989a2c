-- Week 8 tables in their own schema, so reruns and other modules never collide.
-- flights: the source, as the original defined it (zoned times, seat and booking counts).
-- flights_upload: the first ten columns, keyed by flight_id so a redelivered message
-- can never add a second row (the consumer inserts with ON CONFLICT DO NOTHING).
CREATE SCHEMA IF NOT EXISTS kafka_pipeline;

CREATE TABLE IF NOT EXISTS kafka_pipeline.flights (
    flight_id          BIGINT PRIMARY KEY,
    airline            VARCHAR(100),
    flight_number      VARCHAR(20),
    origin             VARCHAR(3),
    destination        VARCHAR(3),
    departure_time     TIMESTAMP WITH TIME ZONE,
    arrival_time       TIMESTAMP WITH TIME ZONE,
    duration_minutes   INTEGER,
    aircraft_type      VARCHAR(50),
    status             VARCHAR(20),
    economy_seats      INTEGER DEFAULT 0,
    business_seats     INTEGER DEFAULT 0,
    first_class_seats  INTEGER DEFAULT 0,
    booked_economy     INTEGER DEFAULT 0,
    booked_business    INTEGER DEFAULT 0,
    booked_first_class INTEGER DEFAULT 0
);

CREATE TABLE IF NOT EXISTS kafka_pipeline.flights_upload (
    flight_id        BIGINT PRIMARY KEY,
    airline          VARCHAR(100),
    flight_number    VARCHAR(20),
    origin           VARCHAR(3),
    destination      VARCHAR(3),
    departure_time   TIMESTAMP WITH TIME ZONE,
    arrival_time     TIMESTAMP WITH TIME ZONE,
    duration_minutes INTEGER,
    aircraft_type    VARCHAR(50),
    status           VARCHAR(20)
);
