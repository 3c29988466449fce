"""Who is calling: login, tokens, service accounts and the principal that
follows a request into the tasks it sends."""
