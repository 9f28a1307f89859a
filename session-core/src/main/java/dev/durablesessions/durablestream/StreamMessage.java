package dev.durablesessions.durablestream;

/**
 * One stored message: the bytes of one append. For JSON streams the bytes are the message's
 * values in compact JSON joined by commas (no brackets) and {@code values} counts them, so a
 * read is {@code [} + messages joined by commas + {@code ]} with no re-parsing. The array is
 * never modified once stored.
 */
public record StreamMessage(byte[] data, int values) {
  public int size() {
    return data.length;
  }
}
