"""The VPC a service's traffic goes through, as Compute Engine exports describe it: one kind per module.

- `vpc`: a VPC network with its peerings (private services access is a peering to servicenetworking);
- `subnet`: a subnetwork (its ranges and Private Google Access);
- `router`: a Cloud Router with its Cloud NAT gateways;
- `firewall`: firewall rules (`gcloud compute firewall-rules list --format=json`, one file, many rules).

A Memorystore instance, reached through the VPC, is its own kind (`kinds/redis.py`). `compute` holds what the
Compute Engine kinds share: resource links, and checked numbers and ranges.
"""
