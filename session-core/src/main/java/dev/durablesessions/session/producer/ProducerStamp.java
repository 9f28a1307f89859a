package dev.durablesessions.session.producer;

import dev.durablesessions.CborSerializable;

/**
 * The idempotency key an append may carry. Within one epoch a producer numbers its appends
 * 0, 1, 2, ... without gaps; a retry sends the same triple again. A producer that restarts
 * takes a higher epoch and starts again at 0, which fences the older incarnation.
 */
public record ProducerStamp(String id, long epoch, long seq) implements CborSerializable {}
