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

-- Every message dead-lettered, by its place in the source topic: the consumer looks here
-- before sending a dead letter, so a redelivered message (offsets not committed, a new
-- group) is never dead-lettered twice. value_sha256 tells a message from another one at the
-- same place (a topic deleted and created again), and so does source_timestamp_ms (the
-- same message sent again to a topic created again). A row is written before its dead letter
-- is sent, with the dead-letter topic's high watermarks then (dlq_search_from, by
-- partition); dlq_partition and dlq_offset are set once the broker acknowledged it. A row
-- still without them after a crash is looked up in the dead-letter topic from
-- dlq_search_from on before the message is sent again.
CREATE TABLE IF NOT EXISTS kafka_pipeline.dead_letters (
    topic            TEXT NOT NULL,
    source_partition INTEGER NOT NULL,
    source_offset    BIGINT NOT NULL,
    source_timestamp_ms BIGINT NOT NULL,
    value_sha256     TEXT NOT NULL,
    value_bytes      BIGINT NOT NULL,
    value_truncated  BOOLEAN NOT NULL,
    reason           TEXT NOT NULL,
    dlq_topic        TEXT NOT NULL,
    dlq_search_from  BIGINT[] NOT NULL,
    dlq_partition    INTEGER,
    dlq_offset       BIGINT,
    recorded_at      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, source_partition, source_offset)
);

-- Every dead letter sent back to its topic by `datalab kafka dlq replay`, by its place in the
-- dead-letter topic, so a dead letter is replayed once (dlq_timestamp_ms tells it from
-- another one at the same place of a topic created again). As with dead_letters, the row is
-- written before the message is sent, with the target topic's high watermarks then
-- (target_search_from); target_partition and target_offset are set once the broker
-- acknowledged it. A replay that finds a row without them looks for the message (header
-- dlq.replay.of) in the target topic from there before sending it again.
CREATE TABLE IF NOT EXISTS kafka_pipeline.dead_letter_replays (
    dlq_topic          TEXT NOT NULL,
    dlq_partition      INTEGER NOT NULL,
    dlq_offset         BIGINT NOT NULL,
    dlq_timestamp_ms   BIGINT NOT NULL,
    target_topic       TEXT NOT NULL,
    target_search_from BIGINT[] NOT NULL,
    target_partition   INTEGER,
    target_offset      BIGINT,
    attempt            INTEGER NOT NULL,
    replayed_at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
