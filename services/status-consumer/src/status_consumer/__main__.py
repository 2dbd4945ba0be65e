"""`python -m status_consumer`."""

from status_consumer.main import main

main()
