"""Machine facts used by the speed measurements."""
from mmvid.analysis.machine import peak_rss_mib


def test_peak_rss_is_positive():
    assert peak_rss_mib() > 10
