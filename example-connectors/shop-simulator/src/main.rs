//! `shop-simulator`: run the simulated shop on its own.

use clap::Parser;
use shop_simulator::Shop;

/// A small shop with a REST API (v1 and v2 layouts), for trying Ferry connectors.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8790")]
    listen: std::net::SocketAddr,
    /// Products to create at start.
    #[arg(long, default_value_t = 100)]
    products: u64,
    /// Customers to create at start.
    #[arg(long, default_value_t = 20)]
    customers: u64,
    /// Orders to create at start.
    #[arg(long, default_value_t = 30)]
    orders: u64,
    /// API key of the v1 layout.
    #[arg(long, default_value = shop_simulator::DEFAULT_API_KEY)]
    api_key: String,
    /// Bearer token of the v2 layout.
    #[arg(long, default_value = shop_simulator::DEFAULT_TOKEN)]
    token: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shop = Shop::new(&args.api_key, &args.token);
    shop.data().seed(args.products, args.customers, args.orders);
    let (addr, task) = shop.serve(args.listen).await?;
    println!("shop simulator listening on http://{addr}");
    task.await?;
    Ok(())
}
