"""Facts about the machine a measurement runs on: CPU model, usable cores,
and the process's peak resident memory."""
import os
import platform
import resource

# one reader of the cores this process may use, shared with decord's 'auto'
# decoding threads (datasets sit below analysis)
from mmvid.datasets.transforms.threads import usable_cores  # noqa: F401


def reset_peak_rss() -> bool:
    """Reset this process's resident-set high-water mark (Linux
    ``/proc/self/clear_refs``); False where that is not possible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB: ``VmHWM`` from
    ``/proc/self/status``, else ``getrusage`` (the lifetime peak)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024 if platform.system() == 'Darwin' else 1024)


def cpu_model() -> str:
    """The CPU model from ``/proc/cpuinfo`` (else what ``platform`` says)."""
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return name


def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``) and logical core count."""
    return f'{cpu_model()}, {os.cpu_count()} logical cores'
