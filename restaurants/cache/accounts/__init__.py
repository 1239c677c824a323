"""Sessions (Redis for speed, DynamoDB for truth) and the login and reset throttles."""
