//! Broker sources against the real brokers of this machine (RabbitMQ,
//! NATS, Mosquitto, Redis, PostgreSQL): messages in, exactly one job each,
//! through `kill -9`, bad messages and brokers that go away.

// Until every type has its tests, some helpers have no caller.
#[allow(dead_code)]
mod harness;
mod nats;
mod operators;
