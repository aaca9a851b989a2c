-- Server-side cursor over the flights after a given id: the producer FETCHes it in
-- batches, so memory stays bounded whatever the table size. $1: last id already sent.
DECLARE flights_cursor NO SCROLL CURSOR FOR
SELECT flight_id, airline, flight_number, origin, destination, departure_time, arrival_time,
       duration_minutes, aircraft_type, status, economy_seats, business_seats, first_class_seats,
       booked_economy, booked_business, booked_first_class
FROM kafka_pipeline.flights
WHERE flight_id > $1
