"""疗休养 services: catalog (bases, products, import), policy, declarations, reservations, balance,
consumption import, statistics."""
