package dev.durablesessions;

/**
 * Marker for everything that crosses nodes or lands in the journal. It is bound to
 * Pekko's Jackson CBOR serializer in reference.conf; nothing else is serialized and Java
 * serialization is off.
 */
public interface CborSerializable {}
