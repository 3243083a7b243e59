"""Progress and ETA from webui's state."""

from webui_taskqueue.host.contract import StateSnapshot
from webui_taskqueue.running.progress import ProgressMeter


def snap(step, steps=10, job_no=0, job_count=1):
    return StateSnapshot(job_no=job_no, job_count=job_count, sampling_step=step, sampling_steps=steps, interrupted=False)


def test_before_sampling_there_is_no_fraction_and_no_eta():
    meter = ProgressMeter(requested_steps=20, requested_jobs=2)
    p = meter.read(StateSnapshot(0, -1, 0, 0, False), now=0.0)  # just after state.begin()
    assert (p.fraction, p.step, p.steps, p.job_count, p.eta_seconds) == (0.0, 0, 20, 2, None)


def test_eta_leaves_out_model_loading():
    meter = ProgressMeter(10, 1)
    meter.read(StateSnapshot(0, -1, 0, 0, False), now=0.0)  # loading the model: 30 s
    meter.read(snap(1), now=30.0)                            # step 2 of 10 seen at t=30
    p = meter.read(snap(5), now=34.0)                        # 4 steps in 4 s
    assert p.step == 6 and p.fraction == 0.6
    assert abs(p.eta_seconds - 4.0) < 1e-6                   # 4 steps left, 1 s each


def test_fraction_counts_batches_and_never_goes_back():
    meter = ProgressMeter(10, 2)
    assert meter.read(snap(9, job_no=0, job_count=2), 1.0).fraction == 0.5
    assert meter.read(snap(4, job_no=1, job_count=2), 2.0).fraction == 0.75
    # a hires pass restarts sampling_step: the fraction holds
    assert meter.read(snap(0, steps=5, job_no=1, job_count=2), 3.0).fraction == 0.75


def test_once_the_job_has_ended_the_last_progress_stays_and_never_goes_back():
    # webui's state after end(): job_count 0 and the step counter where it was left
    meter = ProgressMeter(10, 1)
    meter.read(snap(9), now=1.0)
    after = meter.read(StateSnapshot(0, 0, 0, 10, False), now=2.0)
    assert (after.step, after.steps, after.fraction) == (10, 10, 1.0)


def test_a_job_that_ran_to_its_end_is_complete_whatever_the_last_poll_saw():
    meter = ProgressMeter(10, 2)
    meter.read(snap(3, job_no=0, job_count=2), now=1.0)
    done = meter.completed()
    assert (done.fraction, done.step, done.steps, done.job_no, done.job_count, done.eta_seconds) == (1.0, 10, 10, 1, 2, 0.0)
    assert ProgressMeter(20, 1).completed().step == 20  # never polled: the request's steps
