import os

from ckrequest.run.host import cpu_name, describe_host


def test_cpu_name_from_cpuinfo_text():
    assert cpu_name("processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t: avx\n") == "AMD EPYC 9B14"
    assert cpu_name("Hardware\t: BCM2709\n") == "BCM2709"


def test_host_description_has_no_hostname():
    info = describe_host()
    assert info.logical_cpus >= info.physical_cpus >= 1 and info.memory_bytes > 2**28
    assert os.uname().nodename not in str(info.as_dict())
