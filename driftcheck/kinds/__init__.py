"""Resource kinds: for each, its canonical form, the evidence it reads, its snapshot form, its live reads and
its Terraform types, registered in `registry.py`, which every stage reads."""
