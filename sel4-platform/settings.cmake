# Cache preload for seL4's init-build.sh (it passes `-C <project>/settings.cmake`): the board's kernel settings.
include(${CMAKE_CURRENT_LIST_DIR}/../boards/qemu-virt-aarch64/sel4-settings.cmake)
