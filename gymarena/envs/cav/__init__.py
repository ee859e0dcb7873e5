"""CAV safety testing: a vectorised highway simulator where background vehicles follow a
naturalistic driving distribution (NDE) or are steered by importance sampling (NADE),
to estimate an automated vehicle's crash rate with as few tests as possible."""
