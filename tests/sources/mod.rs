//! Broker sources against the real brokers of this machine (RabbitMQ,
//! NATS, Mosquitto, Redis, PostgreSQL): messages in, exactly one job each,
//! through `kill -9`, bad messages and brokers that go away.

mod behaviour;
mod harness;
mod mqtt;
mod nats;
mod observed;
mod operators;
mod postgres;
mod rabbitmq;
mod redis;
mod shop_orders;
