/* virtio-mmio transport: slot probing, the device status dance, feature negotiation and queue registers. */
#include "virtio_mmio.h"

const char *virtio_error_name(int err) {
  switch (err) {
    case VIRTIO_E_NO_DEVICE: return "no-device";
    case VIRTIO_E_LEGACY: return "legacy-transport";
    case VIRTIO_E_VERSION: return "unknown-version";
    case VIRTIO_E_WRONG_DEVICE: return "wrong-device";
    case VIRTIO_E_FEATURES: return "features";
    case VIRTIO_E_QUEUE: return "queue";
    case VIRTIO_E_RESET: return "reset";
    case VIRTIO_E_CONFIG: return "config";
    case VIRTIO_E_NOT_FOUND: return "not-found";
    case VIRTQ_E_SIZE: return "queue-size";
    case VIRTQ_E_MEM: return "queue-memory";
    case VIRTQ_E_FULL: return "busy";
    case VIRTQ_E_CHAIN: return "chain";
    case VIRTQ_E_DEVICE: return "device-bad-id";
    default: return "unknown";
  }
}

uint32_t virtio_mmio_read(const VirtioMmioDev *dev, uint32_t reg) { return dev->io.read(dev->io.ctx, dev->base + reg); }

void virtio_mmio_write(const VirtioMmioDev *dev, uint32_t reg, uint32_t value) {
  dev->io.write(dev->io.ctx, dev->base + reg, value);
}

int virtio_mmio_check(const VirtioMmioDev *dev, uint32_t device_id) {
  if (virtio_mmio_read(dev, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE) return VIRTIO_E_NO_DEVICE;
  uint32_t id = virtio_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID);
  /* QEMU fills unused slots with transports whose device id is 0: present, but empty. */
  if (id == 0) return VIRTIO_E_NO_DEVICE;
  if (id != device_id) return VIRTIO_E_WRONG_DEVICE;
  uint32_t version = virtio_mmio_read(dev, VIRTIO_MMIO_VERSION);
  if (version == VIRTIO_MMIO_VERSION_LEGACY) return VIRTIO_E_LEGACY;
  if (version != VIRTIO_MMIO_VERSION_MODERN) return VIRTIO_E_VERSION;
  return 0;
}

int virtio_mmio_find(VirtioMmioIo io, uint32_t device_id, VirtioMmioDev *dev) {
  int refusal = VIRTIO_E_NOT_FOUND;
  for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) {
    VirtioMmioDev d = {io, n * VIRTIO_MMIO_SLOT_BYTES, n};
    int rc = virtio_mmio_check(&d, device_id);
    if (rc == 0) {
      *dev = d;
      return 0;
    }
    if ((rc == VIRTIO_E_LEGACY || rc == VIRTIO_E_VERSION) && refusal == VIRTIO_E_NOT_FOUND) refusal = rc;
  }
  return refusal;
}

uint32_t virtio_mmio_irq(const VirtioMmioDev *dev) {
  return VIRTIO_MMIO_GIC_SPI_OFFSET + VIRTIO_MMIO_SPI_BASE + dev->slot;
}

void virtio_mmio_fail(const VirtioMmioDev *dev) {
  virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
}

static void status_add(const VirtioMmioDev *dev, uint32_t bits) {
  virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) | bits);
}

int virtio_mmio_begin(const VirtioMmioDev *dev, uint64_t required, uint64_t wanted, uint64_t *accepted) {
  virtio_mmio_write(dev, VIRTIO_MMIO_STATUS, 0);
  uint32_t polls = 0;
  while (virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) != 0) {
    if (++polls >= VIRTIO_MMIO_RESET_POLLS_MAX) return VIRTIO_E_RESET;
  }
  status_add(dev, VIRTIO_STATUS_ACKNOWLEDGE);
  status_add(dev, VIRTIO_STATUS_DRIVER);

  uint64_t offered = 0;
  for (uint32_t word = 0; word < 2; word++) {
    virtio_mmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, word);
    offered |= (uint64_t)virtio_mmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES) << (32u * word);
  }
  if ((offered & required) != required) {
    virtio_mmio_fail(dev);
    return VIRTIO_E_FEATURES;
  }
  uint64_t take = offered & (wanted | required);
  for (uint32_t word = 0; word < 2; word++) {
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, word);
    virtio_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(take >> (32u * word)));
  }
  status_add(dev, VIRTIO_STATUS_FEATURES_OK);
  /* The device clears FEATURES_OK when it cannot work with our subset (spec 3.1.1 step 6). */
  if ((virtio_mmio_read(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0) {
    virtio_mmio_fail(dev);
    return VIRTIO_E_FEATURES;
  }
  *accepted = take;
  return 0;
}

int virtio_mmio_queue_setup(const VirtioMmioDev *dev, uint32_t index, const Virtq *q) {
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
  if (virtio_mmio_read(dev, VIRTIO_MMIO_QUEUE_READY) != 0) return VIRTIO_E_QUEUE;
  uint32_t max = virtio_mmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
  if (max == 0 || max < q->size) return VIRTIO_E_QUEUE;
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, q->size);
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->mem.desc_paddr);
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->mem.desc_paddr >> 32));
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->mem.avail_paddr);
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->mem.avail_paddr >> 32));
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->mem.used_paddr);
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->mem.used_paddr >> 32));
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
  return 0;
}

void virtio_mmio_driver_ok(const VirtioMmioDev *dev) { status_add(dev, VIRTIO_STATUS_DRIVER_OK); }

void virtio_mmio_notify(const VirtioMmioDev *dev, uint32_t queue_index) {
  virtio_mmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, queue_index);
}

uint32_t virtio_mmio_irq_ack(const VirtioMmioDev *dev) {
  uint32_t status = virtio_mmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS);
  if (status) virtio_mmio_write(dev, VIRTIO_MMIO_INTERRUPT_ACK, status);
  return status;
}

int virtio_mmio_config_read(const VirtioMmioDev *dev, uint32_t offset, uint8_t *out, uint32_t len) {
  for (uint32_t attempt = 0; attempt < VIRTIO_MMIO_CONFIG_RETRIES_MAX; attempt++) {
    uint32_t before = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
    /* Whole aligned words: the one access width every transport accepts for config space. */
    for (uint32_t i = 0; i < len; i++) {
      uint32_t at = offset + i;
      uint32_t word = virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG + (at & ~3u));
      out[i] = (uint8_t)(word >> (8u * (at & 3u)));
    }
    if (virtio_mmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION) == before) return 0;
  }
  return VIRTIO_E_CONFIG;
}
