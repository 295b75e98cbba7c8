package dev.mlops.spring.boot;

import dev.mlops.api.Predictor;
import java.util.Map;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Registers one {@code Predictor<float[], float[]>} bean per {@code mlops.predictors.<name>}, named
 * {@code <name>} and qualified {@code @Qualifier("<name>")}, made by {@link PredictorFactory}. A
 * bean the application declares under that name replaces it (for a predictor with its own codec).
 */
final class PredictorBeans implements ImportBeanDefinitionRegistrar, EnvironmentAware {

  private Environment environment;

  PredictorBeans() {}

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void registerBeanDefinitions(
      AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
    Map<String, Object> names =
        Binder.get(environment)
            .bind(
                MlopsProperties.PREFIX + ".predictors", Bindable.mapOf(String.class, Object.class))
            .orElse(Map.of());
    for (String name : names.keySet()) {
      if (registry.containsBeanDefinition(name)) {
        continue;
      }
      RootBeanDefinition bd = new RootBeanDefinition();
      bd.setTargetType(
          ResolvableType.forClassWithGenerics(Predictor.class, float[].class, float[].class));
      bd.setFactoryBeanName("mlopsPredictorFactory");
      bd.setFactoryMethodName("create");
      bd.getConstructorArgumentValues().addIndexedArgumentValue(0, name);
      bd.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
      bd.setDestroyMethodName("close");
      bd.setDescription("mlops predictor " + PredictorFactory.key(name));
      registry.registerBeanDefinition(name, bd);
    }
  }
}
