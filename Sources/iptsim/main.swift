import IptsimCLI

runIptsim()
