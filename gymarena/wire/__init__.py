"""What crosses a pipe between gymarena processes that must not share an interpreter or
trust each other (a sandboxed agent, a simulator in its own runtime): length-prefixed
frames of JSON and raw numpy buffers (``frames``), and Gymnasium spaces as plain data
(``spaces``). Never pickle."""
