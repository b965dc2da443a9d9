"""Studies: experiments that train or measure networks built from the tables."""
