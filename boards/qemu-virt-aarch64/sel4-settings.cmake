# seL4 kernel settings the Cohesix root task expects on qemu-arm-virt (AArch64), for seL4 15.0.0.
# sel4-platform/CMakeLists.txt includes this before project() and then checks the values the kernel
# build ended up with (a tree configured otherwise is refused with the setting's name).
set(KernelPlatform qemu-arm-virt CACHE STRING "")
set(KernelSel4Arch aarch64 CACHE STRING "")
set(ARM_CPU cortex-a57 CACHE STRING "")
# The kernel build dumps QEMU's DTB with these options; QEMU must boot with the same (qemu.sh).
set(QEMU_MEMORY 1024 CACHE STRING "")
set(QEMU_GIC_VERSION 2 CACHE STRING "")
set(KernelDebugBuild ON CACHE BOOL "")
set(KernelPrinting ON CACHE BOOL "")
set(KernelIsMCS OFF CACHE BOOL "")
set(KernelVerificationBuild OFF CACHE BOOL "")
# The root task programs the EL1 physical timer (PPI 30) and reads its counter from user mode.
set(KernelArmExportPCNTUser ON CACHE BOOL "")
set(KernelArmExportPTMRUser ON CACHE BOOL "")
# 2^16 slots: one capability per 4 KiB arena frame (FRAME_POOL_WINDOW_PAGES_MAX = 32768) plus the
# root task's own image pages; the default 2^12 runs out at boot.
set(KernelRootCNodeSizeBits 16 CACHE STRING "")
set(ElfloaderImage elf CACHE STRING "")
set(CROSS_COMPILER_PREFIX aarch64-linux-gnu- CACHE STRING "")
