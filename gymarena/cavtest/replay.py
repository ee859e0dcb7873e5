"""A stored test played again and drawn: what the AV did, as a GIF or a strip of frames."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from gymarena.cavtest.av import av_source
from gymarena.cavtest.runs import stored_outcomes
from gymarena.cavtest.samplers import MODES, Sampler
from gymarena.envs.cav.ndd import load_ndd
from gymarena.envs.cav.render import draw_frame
from gymarena.envs.cav.sim import Road
from gymarena.envs.cav.testing import play_batch
from gymarena.errors import GymarenaError, param
from gymarena.results import ResultsStore
from gymarena.tasks import get_task

FORMATS = (".gif", ".png")


def replay(store: ResultsStore, run_id: int, test: int | None, out: str) -> tuple[int, str]:
    """Play a stored test again and draw it into ``out`` (.gif or .png); (test, path)."""
    if Path(out).suffix.lower() not in FORMATS:
        raise GymarenaError(f"{param('out')} {out!r}: write a .gif (animation) or a .png (strip of frames)")
    run, _values, records = stored_outcomes(store, run_id)
    if test is None:
        crashed = [r for r in records if r.extra["crash"]]
        if not crashed:
            raise GymarenaError(f"run {run_id} has no crash to replay; name a test with {param('test')}")
        test = crashed[0].episode
    record = next((r for r in records if r.episode == test), None)
    if record is None:
        raise GymarenaError(f"run {run_id} has no test {test} (it has {len(records)})")
    config = run.config
    ndd = load_ndd(config["ndd"]) if config.get("ndd") else load_ndd()
    task = dataclasses.replace(get_task(MODES[config["mode"]]), episodes=len(records))
    _, policy_for = av_source(config["agent"])
    policy, seed = policy_for(task), config["seeds"][0]
    sizes: dict[int, int] = {}
    for r in records:
        sizes[r.extra["batch"]] = sizes.get(r.extra["batch"], 0) + 1
    sampler = Sampler(config["mode"], ndd, config["epsilon"])
    if sampler.learns:  # what the sampler had learned when the test's batch began: the batches before it again
        for index in range(record.extra["batch"]):
            controller = sampler.controller()
            sampler.observe(controller, play_batch(sizes[index], policy, controller, Road(), seed, index)[0])
    batch, trace = play_batch(sizes[record.extra["batch"]], policy, sampler.controller(), Road(), seed,
                              record.extra["batch"], watch=record.extra["row"])
    if bool(batch.crashed[record.extra["row"]]) != record.extra["crash"]:
        raise GymarenaError(f"test {test} did not replay as stored (the simulator, NDD or AV changed since)")
    frames = [draw_frame(x, lane, Road(), crashed) for x, lane, crashed in trace]
    return test, str(write_frames(frames, out, every=2 if out.endswith(".gif") else max(1, len(frames) // 12)))


def write_frames(frames: list[np.ndarray], path: str | Path, every: int = 1) -> Path:
    """A GIF (``.gif``: every ``every``-th frame at the simulation's pace) or a PNG strip
    (``.png``: up to 12 frames stacked, the last one being the end of the test)."""
    from PIL import Image

    path = Path(path)
    chosen = frames[::every]
    if frames and chosen[-1] is not frames[-1]:
        chosen.append(frames[-1])
    if path.suffix.lower() == ".gif":
        images = [Image.fromarray(f) for f in chosen]
        images[0].save(path, save_all=True, append_images=images[1:], duration=100 * every, loop=0)
    elif path.suffix.lower() == ".png":
        picked = chosen[-12:]
        gap = np.full((4, picked[0].shape[1], 3), 255, dtype=np.uint8)
        Image.fromarray(np.concatenate([part for f in picked for part in (f, gap)][:-1])).save(path)
    else:
        raise GymarenaError(f"write a .gif or a .png, not {path.suffix or 'a file without extension'}")
    return path
