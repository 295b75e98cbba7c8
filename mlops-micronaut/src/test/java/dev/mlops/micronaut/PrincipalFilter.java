package dev.mlops.micronaut;

import io.micronaut.context.annotation.Requires;
import io.micronaut.http.MutableHttpRequest;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.security.Principal;

/**
 * Stands in for an authenticating filter (micronaut-security sets the same attribute): the user
 * named by the X-User header becomes the request's principal.
 */
@ServerFilter("/**")
@Requires(property = "test.principal-filter", value = "true")
class PrincipalFilter {

  @RequestFilter
  void authenticate(MutableHttpRequest<?> request) {
    String user = request.getHeaders().get("X-User");
    if (user != null) {
      Principal p = () -> user;
      request.setUserPrincipal(p);
    }
  }
}
