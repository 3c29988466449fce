"""RabbitMQ (``APP_BROKER_URL=amqp://…``) on taskiq-aio-pika, chosen when the
service was generated; results and job events live at APP_RESULT_BACKEND_URL."""

from .backend import RabbitMQBackend

BACKEND = RabbitMQBackend()
