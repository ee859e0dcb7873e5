"""Drawing a test: a top view of the road around the AV, as numpy RGB frames (the env's
``rgb_array`` rendering, and the frames of replayed tests: gymarena/cavtest/replay.py)."""

from __future__ import annotations

import numpy as np

from gymarena.envs.cav.sim import Road

PIXELS_PER_METRE = 4
VIEW = (-60.0, 140.0)  # metres behind and ahead of the AV that a frame shows
LANE_PIXELS = 24
ROAD = (70, 70, 75)
MARKING = (230, 230, 230)
AV, BV, CRASH = (40, 120, 230), (235, 235, 235), (230, 40, 40)


def draw_frame(x: np.ndarray, lane: np.ndarray, road: Road, crashed: bool = False) -> np.ndarray:
    """One frame (H, W, 3) uint8 of a test's vehicles; vehicle 0 (the AV) in blue, red once crashed."""
    width = int((VIEW[1] - VIEW[0]) * PIXELS_PER_METRE)
    height = road.lanes * LANE_PIXELS
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = ROAD
    for boundary in range(1, road.lanes):
        row = height - boundary * LANE_PIXELS
        frame[row, ::12] = MARKING
        frame[row, 1::12] = MARKING
    centre = x[0]
    for index in np.argsort(-np.arange(len(x))):  # the AV last, on top
        left = int((x[index] - road.vehicle_length - centre - VIEW[0]) * PIXELS_PER_METRE)
        right = int((x[index] - centre - VIEW[0]) * PIXELS_PER_METRE)
        if right < 0 or left >= width:
            continue
        top = height - (int(lane[index]) + 1) * LANE_PIXELS + 5
        colour = (CRASH if crashed else AV) if index == 0 else BV
        frame[top:top + LANE_PIXELS - 10, max(left, 0):min(right, width)] = colour
    return frame
