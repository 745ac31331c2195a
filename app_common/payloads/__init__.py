"""One dataclass per payload, per pattern. Across durable boundaries payloads travel as plain
JSON dicts: ``to_json()`` on the way out, ``from_json()`` (strict validation) on the way in."""
