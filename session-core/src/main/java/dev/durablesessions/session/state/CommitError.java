package dev.durablesessions.session.state;

import dev.durablesessions.CborSerializable;

/** What went wrong in the step a commit records (a tool timeout, say), so the agent can branch on it. */
public record CommitError(String code, String message) implements CborSerializable {}
