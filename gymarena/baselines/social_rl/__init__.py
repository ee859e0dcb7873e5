"""Trainable social-deduction players: a discrete utterance vocabulary (``vocabulary``)
for what they say in meetings."""
