"""Pipeline stages: each a Kafka consumer group that writes to the database in one
transaction per batch, then produces downstream, then commits its offsets."""
