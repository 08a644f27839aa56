"""Wind integration studies: power from wind, hosting capacity, curtailment, capacity credit."""
