/*
 * fork_hooks.h -- nothing to call: the library registers its fork handlers itself when it is loaded
 * (fork_hooks.c). The handlers are Process/ForkSafety.swift; the contract is in voicetelemetry.h
 * ("Processes").
 */
#ifndef VT_FORK_HOOKS_H
#define VT_FORK_HOOKS_H
#endif
