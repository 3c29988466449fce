"""Users: registration, and the welcome e-mail sent by a worker."""
