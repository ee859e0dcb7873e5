"""Trainable social-deduction players: a discrete utterance vocabulary (``vocabulary``), a
memory of what each seat saw and heard (``features``), the crew network (``policy``), PPO in
the paper's three conditions (``training``), checkpoints as players (``player``), and the
hunting scripted impostor they train against (``hunter``)."""
