/* The CPU quota cgroups put on this process (v2 cpu.max, v1 CFS quota), in CPUs. */
#ifndef COHESIX_HOST_SIM_CPU_QUOTA_H
#define COHESIX_HOST_SIM_CPU_QUOTA_H

/* The tightest quota on this process's cgroup or any above it, in CPUs (0.5 = half of one), or 0
   when there is none or it cannot be read. `proc_cgroup` lists the process's cgroups
   (/proc/self/cgroup); `root` is where cgroups are mounted (/sys/fs/cgroup). */
double cpu_quota_cpus(const char *proc_cgroup, const char *root);

#endif
