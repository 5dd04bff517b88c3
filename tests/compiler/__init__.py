"""Tests of the pure compiler (services, load balancers, BGP, node base, incremental engine)."""
