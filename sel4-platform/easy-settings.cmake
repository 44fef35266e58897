# Marks sel4-platform/ as a seL4 project for init-build.sh: link this file into your seL4 tree's top
# directory and init-build.sh configures sel4-platform/CMakeLists.txt (add -DCOHESIX_IMAGE=<img>).
set(COHESIX_IMAGE "" CACHE FILEPATH "hive image (CPIO) to link into the root task")
