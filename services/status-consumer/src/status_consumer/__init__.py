"""status-consumer: applies RabbitMQ status messages to Postgres and publishes events."""
