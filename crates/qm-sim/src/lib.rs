//! Generated workloads and the realistic demo scenario, for the demo, benchmarks and tests.
